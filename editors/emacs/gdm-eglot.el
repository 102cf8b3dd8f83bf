;;; gdm-eglot.el --- gdm, the AI coding agent in a language server, with eglot  -*- lexical-binding: t; -*-

;; Usage (eglot 1.9+, Emacs 28+):
;;   (add-to-list 'load-path "/path/to/gdm/editors/emacs")
;;   (setq gdm-settings '(:model "openai/gpt-4.1"))   ; gdm's settings, see README "Settings"
;;   (require 'gdm-eglot)
;;   M-x eglot in a Python buffer.
;;
;; Ask: put a comment `# gdm: <instruction>' in the code and run `eglot-code-actions' on it
;; (pick "gdm: <instruction>"), or pick "Ask gdm…" (it asks for the prompt), or M-x gdm-ask.  Review: eglot has no code lenses, so use
;; `eglot-code-actions' on the changed lines: "gdm: Accept this change", "gdm: Reject this
;; change", "gdm: Accept all changes of this task".  The mode line shows the cost
;; ("gdm $0.0123 day $0.45 1 pending"); eglot 1.9 shows no $/progress, so the task's end
;; arrives as a message with its risk and cost.
;;
;; eglot runs one server per buffer: with this, gdm is the Python server of the buffers it
;; manages (use lsp-mode, see gdm-lsp-mode.el, to run gdm beside another server).

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'gdm-core)

(defun gdm--server-contact (_interactive)
  "The eglot contact of gdm: its command with the settings as initializationOptions."
  `(,@gdm-server-command :initializationOptions ,(or gdm-settings '(:gdmNotifications t))))

(add-to-list 'eglot-server-programs `(,gdm-major-modes . gdm--server-contact))

(defun gdm--workspace-configuration ()
  "The `gdm' section answered to workspace/configuration."
  `((:gdm . ,gdm-settings)))

(setq-default eglot-workspace-configuration
              (append (gdm--workspace-configuration)
                      (and (listp eglot-workspace-configuration) eglot-workspace-configuration)))

(cl-defmethod eglot-handle-notification (_server (_method (eql gdm/costUpdate)) &rest params)
  "Keep the cost for the mode line."
  (gdm-note-cost params))

(cl-defmethod eglot-handle-notification (_server (_method (eql gdm/patchProposed)) &rest params)
  "Keep the patch (its status changes as it is reviewed)."
  (gdm-note-patch params))

(cl-defmethod eglot-handle-notification (_server (_method (eql gdm/taskEvent)) &rest params)
  "Note when a task ends."
  (gdm-note-task-event params))

(cl-defmethod eglot-execute-command (server (_command (eql gdm.ask)) arguments)
  "Run gdm.ask from a code action, asking for the prompt when it has none (\"Ask gdm…\")."
  (let ((result (cl-call-next-method server 'gdm.ask (vector (gdm-with-prompt (aref arguments 0))))))
    (gdm-note-asked (plist-get result :taskId))
    result))

(defun gdm-ask (prompt &optional beg end)
  "Ask gdm PROMPT about the region (BEG to END) or the current line."
  (interactive (append (list (read-string "Ask gdm: "))
                       (when (use-region-p) (list (region-beginning) (region-end)))))
  (let* ((payload (gdm-ask-payload prompt (eglot--path-to-uri buffer-file-name) beg end))
         (result (eglot-execute-command (eglot--current-server-or-lose) 'gdm.ask (vector payload))))
    (gdm-note-asked (plist-get result :taskId))
    result))

(setq gdm-send-ask-function
      (lambda (payload) (eglot-execute-command (eglot--current-server-or-lose) 'gdm.ask (vector payload))))
(setq gdm-buffer-uri-function (lambda () (eglot--path-to-uri buffer-file-name)))

(provide 'gdm-eglot)
;;; gdm-eglot.el ends here
