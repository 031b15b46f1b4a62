S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: -ERR command not valid in this state
C: AUTH
S: -ERR command not valid in this state
C: QUIT
S: +OK bye, 0 messages deleted
