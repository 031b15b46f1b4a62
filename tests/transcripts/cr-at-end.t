S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: LIST 5
S: +OK 5 43
C: RETR 5
S: +OK 43 octets
S: Subject: cr at end
S:
S: ends with a bare CR
S: .
C: QUIT
S: +OK bye, 0 messages deleted
