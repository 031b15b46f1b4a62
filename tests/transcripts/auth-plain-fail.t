mintime: 1.95

S: +OK pop3d ready
C: AUTH PLAIN AG1lAHBhc3N3MHJkMg==
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN
S: +\x20
C: AG5vc3VjaHVzZXIAcGFzc3cwcmQ=
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
