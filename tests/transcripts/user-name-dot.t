S: +OK pop3d ready
C: USER .dot
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (30 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 30 octets
S: Subject: for .dot
S:
S: ..%2Edot
S: .
C: QUIT
S: +OK bye, 0 messages deleted
