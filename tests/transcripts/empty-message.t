S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: LIST 2
S: +OK 2 0
C: RETR 2
S: +OK 0 octets
S: .
C: TOP 2 0
S: +OK top of message follows
S: .
C: TOP 2 5
S: +OK top of message follows
S: .
C: QUIT
S: +OK bye, 0 messages deleted
