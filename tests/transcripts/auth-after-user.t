mintime: 0.95

S: +OK pop3d ready
C: USER me
S: +OK send PASS
C: AUTH PLAIN *
S: -ERR authentication cancelled
C: PASS passw0rd
S: -ERR USER first
C: USER me
S: +OK send PASS
C: AUTH
S: +OK
S: PLAIN
S: LOGIN
S: .
C: PASS passw0rd
S: -ERR USER first
C: USER me
S: +OK send PASS
C: PASS wrong
S: -ERR [AUTH] authentication failed
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
