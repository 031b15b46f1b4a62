S: +OK pop3d ready
C: AUTH PLAIN
S: +\x20
C: AG1lAHBh\x00c3N3MHJk
S: -ERR invalid base64
C: AUTH PLAIN AG1lAHBh\x00c3N3MHJk
S: -ERR invalid character in command
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
