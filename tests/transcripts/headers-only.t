S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: TOP 6 0
S: +OK top of message follows
S: From: dave@example.org
S: Subject: headers only, no blank line
S: .
C: TOP 6 3
S: +OK top of message follows
S: From: dave@example.org
S: Subject: headers only, no blank line
S: .
C: RETR 6
S: +OK 62 octets
S: From: dave@example.org
S: Subject: headers only, no blank line
S: .
C: QUIT
S: +OK bye, 0 messages deleted
