S: +OK pop3d ready
C: USER john doe
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (35 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 35 octets
S: Subject: for john doe
S:
S: john doe
S: .
C: QUIT
S: +OK bye, 0 messages deleted
