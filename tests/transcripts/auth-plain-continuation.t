S: +OK pop3d ready
C: AUTH PLAIN
S: +\x20
C: AG1lAHBhc3N3MHJk
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted
