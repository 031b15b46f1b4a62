setup:
    ln -s me linked

S: +OK pop3d ready
C: AUTH PLAIN AGxpbmtlZABwYXNzdzByZA==
S: -ERR [SYS/PERM] mailbox unusable, tell the admin
C: QUIT
S: +OK bye

after:
    linked@
    me/
    me/1.eml
    me/2.eml
    me/3.eml
