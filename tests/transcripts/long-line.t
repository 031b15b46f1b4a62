rc: 1

S: +OK pop3d ready
C: USER \{n*248}
S: +OK send PASS
C: USER \{n*249}
S: -ERR line too long
C: USER \{n*249}\n\
S: +OK send PASS
C: USER \{n*250}\n\
S: -ERR line too long
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: \{x*300}QUIT
S: -ERR line too long
C: NOOP
S: +OK
C: \{x*5000}QUIT
S: -ERR line too long
C: NOOP
S: +OK
C: NOOP \{y*4000}
S: -ERR line too long
C: STAT
S: +OK 2 286

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
