rc: 1

S: +OK pop3d ready
C: USER
S: -ERR USER needs a name
C: USER me
S: +OK send PASS
C: PASS
S: -ERR PASS needs a password
C: PASS passw0rd
S: -ERR too many bad commands, closing
C: QUIT
