S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: RETR 1
S: +OK 114 octets
S: Subject: dots
S: ..X-Header-With-Dot: yes
S:
S: ..
S: ...
S: ..leading dot
S: ....three
S: a line. with dots.
S: \x20.space then dot
S: ..
S: .
C: TOP 1 0
S: +OK top of message follows
S: Subject: dots
S: ..X-Header-With-Dot: yes
S:
S: .
C: TOP 1 2
S: +OK top of message follows
S: Subject: dots
S: ..X-Header-With-Dot: yes
S:
S: ..
S: ...
S: .
C: QUIT
S: +OK bye, 0 messages deleted
