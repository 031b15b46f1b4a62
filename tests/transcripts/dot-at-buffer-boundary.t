S: +OK pop3d ready
@login big
S: +OK maildrop has 3 messages (299109 octets)
C: LIST 3
S: +OK 3 196639
C: RETR 3
S: +OK 196639 octets
S: Subject: boundary
S:
S: \{a*65516}
S: ..dot at 65536
S: \{b*65521}
S: ..dot after a CR LF split across reads
S: \{c*65496}\r.not a line start
S: ...
S: ..
S: .
C: TOP 3 2
S: +OK top of message follows
S: Subject: boundary
S:
S: \{a*65516}
S: ..dot at 65536
S: .
C: QUIT
S: +OK bye, 0 messages deleted
