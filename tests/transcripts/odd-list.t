S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: LIST
S: +OK 7 messages (467 octets)
S: 1 114
S: 2 0
S: 3 67
S: 4 131
S: 5 43
S: 6 62
S: 7 50
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 a-dots
S: 2 b-empty
S: 3 c-no-final-newline
S: 4 d-8bit
S: 5 e-cr-at-end
S: 6 f-headers-only
S: 7 g-mixed-endings
S: .
C: QUIT
S: +OK bye, 0 messages deleted
