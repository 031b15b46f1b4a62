rc: 1
mintime: 2.95

S: +OK pop3d ready
C: USER me
S: +OK send PASS
C: PASS wrong
S: -ERR [AUTH] authentication failed
@login nosuchuser
S: -ERR [AUTH] authentication failed
C: USER me
S: +OK send PASS
C: PASS Passw0rd
S: -ERR [AUTH] authentication failed
C: USER me
C: PASS passw0rd
C: QUIT
