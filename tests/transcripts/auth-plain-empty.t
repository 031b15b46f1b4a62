S: +OK pop3d ready
C: AUTH PLAIN =
S: -ERR [AUTH] malformed PLAIN response
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
