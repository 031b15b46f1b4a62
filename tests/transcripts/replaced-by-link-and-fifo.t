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
    rm me/2.eml me/3.eml
    ln -s 1.eml me/2.eml
    mkfifo me/3.eml
C: DELE 2
S: +OK message deleted
C: DELE 3
S: +OK message deleted
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml@
    me/3.eml|
