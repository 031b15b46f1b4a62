rc: 1

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: DELE 2
S: +OK message deleted
C: QUIT\

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
