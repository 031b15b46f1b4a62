S: +OK pop3d ready
@login big
S: +OK maildrop has 3 messages (299109 octets)
C: LIST
S: +OK 3 messages (299109 octets)
S: 1 102445
S: 2 25
S: 3 196639
S: .
C: RETR 1
S: +OK 102445 octets
S: Subject: long line
S:
S: \{0123456789abcdef*6400}
S: after the long line
S: .
C: TOP 1 0
S: +OK top of message follows
S: Subject: long line
S:
S: .
C: TOP 1 1
S: +OK top of message follows
S: Subject: long line
S:
S: \{0123456789abcdef*6400}
S: .
C: RETR 2
S: +OK 25 octets
S: Subject: small
S:
S: small
S: .
C: QUIT
S: +OK bye, 0 messages deleted
