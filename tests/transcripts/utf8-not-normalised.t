mintime: 0.95

S: +OK pop3d ready
C: UTF8
S: +OK UTF8 enabled
C: USER jose\xcc\x81
S: +OK send PASS
C: PASS passw0rd
S: -ERR [AUTH] authentication failed
C: QUIT
S: +OK bye
