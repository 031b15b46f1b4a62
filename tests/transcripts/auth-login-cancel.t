S: +OK pop3d ready
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: *
S: -ERR authentication cancelled
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: bWU=
S: + UGFzc3dvcmQ6
C: *
S: -ERR authentication cancelled
C: AUTH LOGIN bWU=
S: + UGFzc3dvcmQ6
C: *
S: -ERR authentication cancelled
C: AUTH LOGIN *
S: -ERR authentication cancelled
C: QUIT
S: +OK bye
