lock: me

S: +OK pop3d ready
C: AUTH PLAIN AG1lAHBhc3N3MHJk
S: -ERR [IN-USE] mailbox in use by another session
C: QUIT
S: +OK bye

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
