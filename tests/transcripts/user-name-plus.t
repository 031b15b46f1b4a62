S: +OK pop3d ready
C: USER alice+pop@example.org
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (61 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 61 octets
S: Subject: for alice+pop@example.org
S:
S: alice+pop@example.org
S: .
C: QUIT
S: +OK bye, 0 messages deleted
