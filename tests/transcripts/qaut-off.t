S: +OK pop3d ready
C: QAUT
S: -ERR unknown command
C: USER me
S: +OK send PASS
C: qaut x
S: -ERR unknown command
C: PASS passw0rd
S: +OK maildrop has 3 messages (454 octets)
C: QAUT
S: -ERR unknown command
C: STAT
S: +OK 3 454
C: SLEE
S: +OK sleeping, 0 messages deleted
C: QAUT
S: -ERR unknown command
C: WAKE
S: +OK [ACTIVITY/NONE] maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
