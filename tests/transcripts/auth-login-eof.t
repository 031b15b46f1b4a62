rc: 1

S: +OK pop3d ready
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: bWU=
S: + UGFzc3dvcmQ6
