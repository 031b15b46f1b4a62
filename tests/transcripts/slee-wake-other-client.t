S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: SLEE
S: +OK sleeping, 0 messages deleted
during:
    # While the first client sleeps, a second one logs in and deletes
    # 3.eml, and new mail arrives.
    printf 'USER me\r\nPASS passw0rd\r\nDELE 3\r\nQUIT\r\n' |
        "$POP3D" --users "$POP3D_USERS" --mail-root . > ../second.out
    grep -q '^+OK bye, 1 messages deleted' ../second.out
    printf 'Subject: four\n\nnew\n' > me/4.eml
C: WAKE
S: +OK [ACTIVITY/NEW] maildrop has 3 messages (405 octets)
C: LIST
S: +OK 3 messages (405 octets)
S: 1 168
S: 2 215
S: 3 22
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: 2 2.eml
S: 3 4.eml
S: .
C: RETR UID:4.eml
S: +OK 22 octets
S: Subject: four
S:
S: new
S: .
C: RETR UID:3.eml
S: -ERR [UID/NOT-FOUND] no such message
C: DELE UID:1.eml
S: +OK message deleted
C: QUIT
S: +OK bye, 1 messages deleted

after:
    me/
    me/2.eml
    me/4.eml
