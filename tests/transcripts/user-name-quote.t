S: +OK pop3d ready
C: USER o'brien
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (33 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 33 octets
S: Subject: for o'brien
S:
S: o'brien
S: .
C: QUIT
S: +OK bye, 0 messages deleted
