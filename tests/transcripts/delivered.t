S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
during:
    printf 'Subject: late\n\nx\n' > me/0.eml
    printf 'Subject: late\n\ny\n' > me/4.eml
C: STAT
S: +OK 3 454
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: 2 2.eml
S: 3 3.eml
S: .
C: LIST 4
S: -ERR no such message
C: DELE 1
S: +OK message deleted
C: DELE 2
S: +OK message deleted
C: DELE 3
S: +OK message deleted
C: QUIT
S: +OK bye, 3 messages deleted

after:
    me/
    me/0.eml
    me/4.eml
