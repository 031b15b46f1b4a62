S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: RETR 3
S: +OK 67 octets
S: Subject: no final newline
S:
S: first line
S: last line has no newline
S: .
C: TOP 3 1
S: +OK top of message follows
S: Subject: no final newline
S:
S: first line
S: .
C: TOP 3 5
S: +OK top of message follows
S: Subject: no final newline
S:
S: first line
S: last line has no newline
S: .
C: QUIT
S: +OK bye, 0 messages deleted
