S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
during:
    printf 'more\n' >> me/2.eml
C: RETR 2
S: -ERR message is no longer available
C: RETR 3
S: +OK 71 octets
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: Short.
S: .
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
