rc: 1

S: +OK pop3d ready
C: AUTH PLAIN =
S: -ERR [AUTH] malformed PLAIN response
C: AUTH PLAIN ====
S: -ERR invalid base64
C: AUTH PLAIN
S: +\x20
C: !!!!
S: -ERR too many bad commands, closing
C: AUTH PLAIN AG1lAHBhc3N3MHJk
C: QUIT
