S: +OK pop3d ready
C: USER a/b
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (28 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 28 octets
S: Subject: for a/b
S:
S: ..a%2Fb
S: .
C: QUIT
S: +OK bye, 0 messages deleted
