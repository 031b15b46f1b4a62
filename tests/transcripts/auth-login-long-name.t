mintime: 0.95

S: +OK pop3d ready
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: \{QUFB*255}QUE=
S: + UGFzc3dvcmQ6
C: cGFzc3cwcmQ=
S: -ERR [AUTH] authentication failed
C: QUIT
S: +OK bye
