S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT now
S: -ERR no argument expected
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
