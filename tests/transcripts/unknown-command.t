S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: FOO
S: -ERR unknown command
C: STATS
S: -ERR unknown command
C: STA
S: -ERR unknown command
C: LISTX 1
S: -ERR unknown command
C: RETR1
S: -ERR unknown command
C:
S: -ERR unknown command
C: \x20STAT
S: -ERR unknown command
C: STAT\t
S: -ERR unknown command
C: NO\rOP
S: -ERR unknown command
C: STAT\r
S: -ERR unknown command
C: XTND XMIT
S: -ERR unknown command
C: NOOP
S: +OK
C: QUIT
S: +OK bye, 0 messages deleted
