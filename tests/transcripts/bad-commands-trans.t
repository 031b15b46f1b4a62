rc: 1

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: FOO
S: -ERR unknown command
C: USER me
S: -ERR command not valid in this state
C: PASS x
S: -ERR command not valid in this state
C: LIST x
S: -ERR invalid message number
C: RETR
S: -ERR RETR needs a message number
C: DELE 1 1
S: -ERR invalid message number
C: TOP 1
S: -ERR TOP needs a message number and a line count
C: STAT 1
S: -ERR no argument expected
C: NOOP 1
S: -ERR no argument expected
C: RSET 1
S: -ERR no argument expected
C: QUIT 1
S: -ERR no argument expected
C: CAPA 1
S: -ERR CAPA takes no argument
C: UIDL x
S: -ERR invalid message number
C: LIST 00000000001
S: -ERR invalid message number
C:
S: -ERR unknown command
C: TOP 2 x
S: -ERR invalid line count
C: QUITX
S: -ERR unknown command
C: APOP
S: -ERR command not valid in this state
C: X
S: -ERR unknown command
C: NOOP
S: +OK
C: N\x00OOP
S: -ERR too many bad commands, closing
C: QUIT

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
