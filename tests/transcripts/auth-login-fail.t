mintime: 0.95

S: +OK pop3d ready
C: AUTH LOGIN bWU=
S: + UGFzc3dvcmQ6
C: UGFzc3cwcmQ=
S: -ERR [AUTH] authentication failed
C: AUTH LOGIN
S: + VXNlcm5hbWU6
C: bWU=
S: + UGFzc3dvcmQ6
C: cGFzc3cwcmQ=
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
