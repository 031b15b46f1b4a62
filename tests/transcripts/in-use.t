lock: me

S: +OK pop3d ready
@login me
S: -ERR [IN-USE] mailbox in use by another session
C: QUIT
S: +OK bye

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
