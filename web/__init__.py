"""The web: people answer where they read — pages for the links in mails, sign-in and Mina uppgifter."""
