S: +OK pop3d ready
@login names
S: +OK maildrop has 7 messages (164 octets)
C: LIST UID:\{x*70}
S: +OK 6 19
C: LIST UID:\{y*71}
S: -ERR [UID/NOT-FOUND] no such message
C: UIDL 7
S: +OK 7 =4e0ad3a1f7d59d68a1371ce1dd9a8680
C: LIST UID:=4e0ad3a1f7d59d68a1371ce1dd9a8680
S: +OK 7 19
C: RETR UID:=3bd5c263c3bab8ef0334991f5709fc55
S: +OK 21 octets
S: Subject: space
S:
S: s
S: .
C: RETR UID:with space.eml
S: -ERR [UID/NOT-FOUND] no such message
C: LIST UID:a:2,S
S: +OK 2 36
C: LIST UID:a
S: -ERR [UID/NOT-FOUND] no such message
C: LIST UID:=starts-with-equals
S: -ERR [UID/NOT-FOUND] no such message
C: LIST UID:=e1a3f7e05257cc32f82bf8291bab6818
S: +OK 1 22
C: QUIT
S: +OK bye, 0 messages deleted
