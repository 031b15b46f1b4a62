S: +OK pop3d ready
C: AUTH PLAIN
S: +\x20
C: \{QUFB*256}QUIT
S: -ERR [AUTH] response too long
C: AUTH PLAIN
S: +\x20
C: \{QUFB*1500}QUIT
S: -ERR [AUTH] response too long
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
