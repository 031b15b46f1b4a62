S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: RETR
S: -ERR RETR needs a message number
C: RETR 0
S: -ERR no such message
C: RETR 4
S: -ERR no such message
C: RETR x
S: -ERR invalid message number
C: RETR 1 2
S: -ERR invalid message number
C: RETR  1
S: -ERR invalid message number
C: QUIT
S: +OK bye, 0 messages deleted
