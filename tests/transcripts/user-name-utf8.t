S: +OK pop3d ready
C: USER jos\xc3\xa9
S: +OK send PASS
C: PASS passw0rd
S: +OK maildrop has 1 messages (29 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: .
C: RETR 1
S: +OK 29 octets
S: Subject: for jos\xc3\xa9
S:
S: jos\xc3\xa9
S: .
C: QUIT
S: +OK bye, 0 messages deleted
