S: +OK pop3d ready
C: utf8
S: +OK UTF8 enabled
C: AUTH PLAIN
S: +\x20
C: AGpvc8OpAHBhc3N3MHJk
S: +OK maildrop has 1 messages (29 octets)
C: QUIT
S: +OK bye, 0 messages deleted
