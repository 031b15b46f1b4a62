S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: LIST 7
S: +OK 7 50
C: RETR 7
S: +OK 50 octets
S: Subject: mixed
S:
S: crlf line
S: lf line
S: crlf again
S: .
C: TOP 7 1
S: +OK top of message follows
S: Subject: mixed
S:
S: crlf line
S: .
C: QUIT
S: +OK bye, 0 messages deleted
