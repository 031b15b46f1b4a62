S: +OK pop3d ready
C: AUTH PLAIN AGpvc8OpAHBhc3N3MHJk
S: +OK maildrop has 1 messages (29 octets)
C: RETR 1
S: +OK 29 octets
S: Subject: for jos\xc3\xa9
S:
S: jos\xc3\xa9
S: .
C: QUIT
S: +OK bye, 0 messages deleted
