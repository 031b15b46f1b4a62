S: +OK pop3d ready
@login names
S: +OK maildrop has 7 messages (164 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 =e1a3f7e05257cc32f82bf8291bab6818
S: 2 a:2,S
S: 3 =91a39282587dc89aa49d118bc78e08a9
S: 4 plain.eml
S: 5 =3bd5c263c3bab8ef0334991f5709fc55
S: 6 \{x*70}
S: 7 =4e0ad3a1f7d59d68a1371ce1dd9a8680
S: .
C: UIDL 5
S: +OK 5 =3bd5c263c3bab8ef0334991f5709fc55
C: RETR 5
S: +OK 21 octets
S: Subject: space
S:
S: s
S: .
C: QUIT
S: +OK bye, 0 messages deleted
