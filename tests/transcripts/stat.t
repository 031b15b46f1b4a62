S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: STAT 1
S: -ERR no argument expected
C: QUIT
S: +OK bye, 0 messages deleted
