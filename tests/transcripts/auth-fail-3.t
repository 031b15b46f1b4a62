rc: 1
mintime: 2.95

S: +OK pop3d ready
C: AUTH PLAIN AG1lAHdyb25n
S: -ERR [AUTH] authentication failed
C: AUTH LOGIN bWU=
S: + UGFzc3dvcmQ6
C: d3Jvbmc=
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN
S: +\x20
C: AG5vc3VjaHVzZXIAcGFzc3cwcmQ=
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN AG1lAHBhc3N3MHJk
C: QUIT
