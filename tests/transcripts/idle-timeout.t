args: --idle-timeout 1
rc: 1
hold: 3
mintime: 0.95

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: NOOP
S: +OK

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
