mintime: 1.95

S: +OK pop3d ready
C: AUTH PLAIN b2RkAG1lAHBhc3N3MHJk
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN TUUAbWUAcGFzc3cwcmQ=
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN bWUAbWUAcGFzc3cwcmQ=
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
