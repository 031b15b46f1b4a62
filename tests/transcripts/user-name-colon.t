S: +OK pop3d ready
C: USER c:d
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (25 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 25 octets
S: Subject: for c:d
S:
S: c:d
S: .
C: QUIT
S: +OK bye, 0 messages deleted
