mintime: 1.95

S: +OK pop3d ready
C: USER me
S: +OK send PASS
C: PASS passw0rd2
S: -ERR [AUTH] authentication failed
@login nosuchuser
S: -ERR [AUTH] authentication failed
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
